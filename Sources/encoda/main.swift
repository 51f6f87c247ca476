import EncodaCLI

EncodaCommand.runMain()
